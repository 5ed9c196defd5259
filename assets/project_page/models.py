"""Records of the project page: what the page shows (a view built from the stages' values) and the
asset's own value (where the page is)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class QuoteView(BaseModel):
    """One place a story was drawn from."""

    document: str
    version: str = Field(description="'v2 (3f9a1c2b)': the document's version number and content hash")
    location: str = Field(description="'page 3', 'line 12', '00:01:02.000–00:01:09.000 (Dana)'")
    speaker: str = ""
    quote: str


class TestView(BaseModel):
    __test__ = False

    name: str
    file: str
    outcome: str


class CriterionView(BaseModel):
    id: str
    given: str
    when: str
    then: str
    coverage: str = Field(description="passed / failed / not_run / uncovered / not validated")
    reason: str = ""
    tests: list[TestView] = Field(default_factory=list)


class ReviewView(BaseModel):
    """The story's pull request and where its review stands."""

    number: int
    url: str = Field("", description="http(s) only; empty for the local forge, which has no web page")
    state: str
    review_state: str = Field(description="'approved by bob', 'changes requested by alice', 'no review yet'")
    command: str = Field("", description="the command that shows it, for a forge without web pages")


class StoryView(BaseModel):
    id: str
    title: str
    priority: str
    as_a: str
    i_want: str
    so_that: str
    depends_on: list[str] = Field(default_factory=list)
    criteria: list[CriterionView] = Field(default_factory=list)
    quotes: list[QuoteView] = Field(default_factory=list)
    build_status: str = "not built"
    build_reason: str = ""
    branch: str = ""
    commit: str = ""
    pull_request: ReviewView | None = None
    tests_status: str = "not validated"


class DocumentView(BaseModel):
    path: str
    kind: str
    versions: int
    current: str


class RejectedView(BaseModel):
    path: str
    reason: str


class UsageView(BaseModel):
    """One stage's model use in its latest materialisation of this project."""

    stage: str
    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class StageLink(BaseModel):
    stage: str
    url: str


class DeploymentView(BaseModel):
    """One deployed component of one environment."""

    environment: str
    component: str
    target: str
    url: str = Field("", description="http(s) only")
    health: str
    status: str
    commit: str
    reason: str = ""


class PageView(BaseModel):
    """Everything the page shows, already worded for people."""

    project: str
    generated_at: str
    repository: str
    repository_url: str = ""
    commit: str = ""
    stories: list[StoryView] = Field(default_factory=list)
    documents: list[DocumentView] = Field(default_factory=list)
    rejected: list[RejectedView] = Field(default_factory=list)
    excluded: list[RejectedView] = Field(default_factory=list)
    usage: list[UsageView] = Field(default_factory=list)
    stages: list[StageLink] = Field(default_factory=list)
    deployments: list[DeploymentView] = Field(default_factory=list)
    tests_passed: int = 0
    tests_failed: int = 0
    criteria_covered: int = 0
    criteria_total: int = 0
    problems: list[str] = Field(default_factory=list)

    @property
    def usage_total(self) -> UsageView:
        return UsageView(
            stage="total",
            model_calls=sum(item.model_calls for item in self.usage),
            input_tokens=sum(item.input_tokens for item in self.usage),
            output_tokens=sum(item.output_tokens for item in self.usage),
            cost_usd=round(sum(item.cost_usd for item in self.usage), 6),
        )


class ProjectPage(BaseModel):
    """The value of the `project_page` asset: where the page is and what it lists."""

    project: str
    key: str = Field(description="the page's key in the artifact store")
    url: str = Field(description="where `ai-pipeline page` serves it")
    stories: list[str] = Field(default_factory=list)
    html_hash: str
