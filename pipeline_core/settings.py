"""All configuration of the code location, read once from environment variables.

Every setting is documented in the README's settings table; keep the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-4-6"


class Settings(BaseSettings):
    """The pipeline's settings; environment variables are the field names in upper case."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    pipeline_data_dir: Path = Field(default=Path("var"), description="Root of all local state.")
    pipeline_inbox: str = Field(
        default="", description="Watched bucket: file:///folder or s3://bucket/prefix. Default <data>/inbox."
    )
    pipeline_artifacts: str = Field(
        default="", description="Where asset values are stored: file:// or s3://. Default <data>/artifacts."
    )
    pipeline_max_file_mb: float = Field(default=50.0, gt=0, description="Largest accepted input file.")
    pipeline_intake_workers: int = Field(default=0, ge=0, description="Parser processes; 0 = one per core.")
    pipeline_parse_timeout_seconds: float = Field(default=60.0, gt=0, description="Time limit per file.")
    pipeline_parse_memory_mb: int = Field(default=2048, gt=0, description="Memory limit per parser process.")
    pipeline_parse_max_expanded_mb: float = Field(
        default=200.0, gt=0, description="How far a zip-based file (DOCX) may inflate."
    )

    pipeline_sensor_interval_seconds: int = Field(default=30, ge=1)
    pipeline_sensor_keys_per_tick: int = Field(default=50_000, ge=1)
    pipeline_sensor_seconds_per_tick: float = Field(default=20.0, gt=0)
    pipeline_sensor_settle_seconds: float = Field(
        default=10.0, ge=0, description="A project's objects must be unchanged this long before a run."
    )

    pipeline_run_monitor_interval_seconds: int = Field(
        default=30, ge=1, description="How often the dead-run sensor checks STARTED runs' workers."
    )

    pipeline_step_executor: Literal["multiprocess", "in_process"] = Field(
        default="in_process",
        description="How a run executes its steps: all in the run's own process, or each in its own.",
    )

    pipeline_llm_provider: Literal["auto", "offline", "anthropic", "bedrock"] = "auto"
    pipeline_llm_model: str = DEFAULT_ANTHROPIC_MODEL
    pipeline_llm_max_tokens: int = 16_000
    pipeline_llm_max_retries: int = 4
    pipeline_llm_timeout_seconds: float = 300.0
    pipeline_codegen_fix_rounds: int = Field(
        default=3,
        ge=1,
        description="Most change sets a Claude-written story is tested with (first answer + fixes).",
    )
    pipeline_budget_usd_per_story: float | None = Field(
        default=None, gt=0, description="Estimated USD a Claude-written story may cost; unset: no limit."
    )
    pipeline_budget_usd_per_project: float | None = Field(
        default=None,
        gt=0,
        description="Estimated USD one story_builds run of a project may cost; unset: no limit.",
    )
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    aws_region: str = "us-east-1"

    pipeline_forge: Literal["auto", "local", "github"] = "auto"
    github_token: SecretStr | None = None  # only its presence is read here; the forge takes it via EnvVar
    github_owner: str | None = None
    github_api_url: str = "https://api.github.com"
    github_private: bool = True

    pipeline_hosting: Literal["auto", "local"] = Field(
        default="auto",
        description="auto: frontends on Netlify when NETLIFY_AUTH_TOKEN is set, backends on ECS when "
        "PIPELINE_ECS_CLUSTER is set, the rest local; local: everything local.",
    )
    pipeline_releases_dir: Path | None = Field(
        default=None, description="Local hosting's release folders and state. Default <data>/releases."
    )
    pipeline_hosting_health_timeout_seconds: float = Field(
        default=60.0, gt=0, description="How long a new release may take to answer its health check."
    )
    netlify_auth_token: SecretStr | None = None  # only its presence is read here; hosting uses EnvVar
    netlify_api_url: str = "https://api.netlify.com/api/v1"
    pipeline_ecs_cluster: str | None = Field(
        default=None, description="ECS cluster the backends run on; set, backends deploy to ECS Fargate."
    )
    netlify_site_prefix: str = Field(
        default="", description="Put before every Netlify site name (site names are global on Netlify)."
    )
    netlify_account_slug: str | None = Field(
        default=None, description="Netlify team new sites are created in; default the token's own."
    )
    pipeline_ecs_subnets: str = Field(default="", description="Comma-separated awsvpc subnets of the tasks.")
    pipeline_ecs_security_groups: str = Field(default="", description="Comma-separated security groups.")
    pipeline_ecs_execution_role_arn: str | None = Field(
        default=None, description="Role ECS pulls the image, reads the app's secrets and writes logs with."
    )
    pipeline_ecs_task_role_arn: str | None = Field(default=None, description="Role of the app itself.")
    pipeline_ecs_assign_public_ip: bool = False
    pipeline_ecs_cpu: int = Field(default=256, description="Fargate cpu units of a backend task.")
    pipeline_ecs_memory: int = Field(default=512, description="Fargate memory (MiB) of a backend task.")
    pipeline_ecs_container_port: int = Field(default=8000, ge=1, le=65535)
    pipeline_ecs_desired_count: int = Field(default=1, ge=1)
    pipeline_ecs_log_group: str | None = Field(default=None, description="awslogs group of the backends.")
    pipeline_ecs_url_template: str | None = Field(
        default=None,
        description="Public URL of a backend service: {project}, {component}, {environment} filled in.",
    )
    pipeline_ecs_image_wait_seconds: float = Field(
        default=900.0, ge=0, description="How long a deploy waits for CI to push the commit's image."
    )
    # Credentials for the generated repositories' CI (pushing images to ECR), set as Actions secrets.
    pipeline_ci_aws_role_arn: str | None = Field(
        default=None, description="Role CI assumes through GitHub's OIDC provider to push to ECR."
    )
    pipeline_ci_aws_access_key_id: SecretStr | None = None
    pipeline_ci_aws_secret_access_key: SecretStr | None = None

    dagster_home: Path | None = Field(
        default=None, description="Dagster instance; default <data>/dagster_home."
    )
    pipeline_ui_url: str = Field(default="http://127.0.0.1:3000", description="The Dagster UI, for links.")
    pipeline_page_url: str = Field(
        default="http://127.0.0.1:3001", description="Where `ai-pipeline page` serves the project pages."
    )

    pipeline_install_cache_dir: Path | None = Field(
        default=None, description="Installed component environments. Default <data>/install-cache."
    )
    pipeline_install_timeout_seconds: float = Field(default=600.0, gt=0, description="Per component install.")
    pipeline_test_timeout_seconds: float = Field(
        default=120.0, gt=0, description="Base time limit of a component's tests."
    )
    pipeline_test_seconds_per_test: float = Field(
        default=2.0, ge=0, description="Added to a component's test time limit per test it holds."
    )

    @property
    def releases_dir(self) -> Path:
        return (self.pipeline_releases_dir or self.data_dir / "releases").resolve()

    @property
    def install_cache_dir(self) -> Path:
        return (self.pipeline_install_cache_dir or self.data_dir / "install-cache").resolve()

    @property
    def data_dir(self) -> Path:
        return self.pipeline_data_dir.resolve()

    @property
    def dagster_home_dir(self) -> Path:
        return (self.dagster_home or self.data_dir / "dagster_home").resolve()

    @property
    def inbox_url(self) -> str:
        return self.pipeline_inbox or (self.data_dir / "inbox").as_uri()

    @property
    def artifacts_url(self) -> str:
        return self.pipeline_artifacts or (self.data_dir / "artifacts").as_uri()

    @property
    def llm_provider(self) -> Literal["offline", "anthropic", "bedrock"]:
        if self.pipeline_llm_provider != "auto":
            return self.pipeline_llm_provider
        return "anthropic" if self.anthropic_api_key else "offline"

    @property
    def max_file_bytes(self) -> int:
        return int(self.pipeline_max_file_mb * 1024 * 1024)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
