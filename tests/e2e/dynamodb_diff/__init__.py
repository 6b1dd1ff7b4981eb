"""Support for the DynamoDB differential test (tests/e2e/test_dynamodb_differential.py):
the same calls go to moto's DynamoDB (the reference) and to the subject (Rheo), and their
normalised outcomes must be equal, except for the named moto departures in departures.py."""
