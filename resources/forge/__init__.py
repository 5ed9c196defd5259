"""The forge resource: repositories, story branches, pull requests and reviews (local git or GitHub).

`make_forge` is the one place that picks the implementation; the lead's settings feed it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import dagster as dg

from resources.forge.base import (
    BUILD_KEY_TRAILER,
    STORY_ID_TRAILER,
    CommitRef,
    FileChange,
    Forge,
    ForgeError,
    GitIdentity,
    PullRequest,
    RepositoryRef,
    Review,
)
from resources.forge.github import GitHubForge
from resources.forge.local import LocalForge

__all__ = [
    "BUILD_KEY_TRAILER",
    "STORY_ID_TRAILER",
    "CommitRef",
    "FileChange",
    "Forge",
    "ForgeError",
    "GitHubForge",
    "GitIdentity",
    "LocalForge",
    "PullRequest",
    "RepositoryRef",
    "Review",
    "make_forge",
]


def make_forge(
    provider: Literal["auto", "local", "github"],
    data_dir: Path,
    *,
    github_token_set: bool = False,
    github_owner: str | None = None,
    github_api_url: str = "https://api.github.com",
    github_private: bool = True,
) -> Forge:
    """The forge the settings ask for. `auto` means GitHub when a token and an owner are set, else local.

    The token itself is never passed around: GitHubForge reads it from GITHUB_TOKEN through dg.EnvVar.
    """
    if provider == "auto":
        provider = "github" if github_token_set and github_owner else "local"
    if provider == "github":
        if not github_owner:
            raise ValueError("the GitHub forge needs an owner (user or organisation): set GITHUB_OWNER")
        return GitHubForge(
            token=dg.EnvVar("GITHUB_TOKEN"),
            owner=github_owner,
            api_url=github_api_url,
            private=github_private,
        )
    return LocalForge(root=str(Path(data_dir) / "forge"))
