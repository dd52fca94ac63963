import { describe } from 'vitest';
import { storeSuite } from './suite.js';

describe('backup with the local store', () => storeSuite('local'));
