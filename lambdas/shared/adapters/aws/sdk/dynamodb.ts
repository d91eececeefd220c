/** What the adapters use of the DynamoDB packages, loaded by ./index on first use (the rest is tree-shaken). */
export { DynamoDBClient } from '@aws-sdk/client-dynamodb';
export { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
