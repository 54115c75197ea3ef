"""The extractor: the Lambda function that turns uploads into metadata."""
