"""How production runs: Dagster instance profiles (infra/dagster) and the AWS CDK app (infra/cdk)."""
