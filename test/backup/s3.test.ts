import { describeWithServices } from '../helpers/services.js';
import { storeSuite } from './suite.js';

describeWithServices('backup with S3 (MinIO)', ['s3'], () => storeSuite('s3'));
