/**
 * What the adapters use of the DynamoDB packages, loaded by ./index on first use. From the
 * packages' indexes: the document client's commands import the DynamoDB package's index
 * themselves, so importing its modules one by one here (as ./s3 does) would save nothing.
 */
export { DynamoDBClient } from '@aws-sdk/client-dynamodb';
export { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
