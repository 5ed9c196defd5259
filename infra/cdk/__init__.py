"""The AWS CDK app (Python) that defines the production deployment; see infra/README.md."""
