"""StreamAggregator's Lambda handler: DynamoDB stream batches in, exact aggregates out.

Runs on the Lambda runtime with nothing but the standard library and boto3, so the deployment
package is this folder alone. The entry point is ``handler.main.lambda_handler``.
"""
