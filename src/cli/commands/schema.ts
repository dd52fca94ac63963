import { jsonSchema } from '../../top/schema.js';

export async function run(): Promise<number> {
  process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
  return 0;
}
