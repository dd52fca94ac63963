// Creates the bucket named in argv[2] through the S3 API, if it is missing.
// Endpoint and credentials come from the standard AWS_* variables.
import { S3Client, CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';

const bucket = process.argv[2];
if (!bucket) {
  console.error('usage: s3-bucket.mjs BUCKET');
  process.exit(2);
}
const s3 = new S3Client({ forcePathStyle: true });
try {
  await s3.send(new HeadBucketCommand({ Bucket: bucket }));
} catch (error) {
  if (error?.$metadata?.httpStatusCode !== 404) throw error;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}
