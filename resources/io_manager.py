"""Stores every asset value as pretty JSON in the artifact store, readable by a person."""

# No `from __future__ import annotations` here: Dagster must see `ResourceDependency[...]` as a real
# type, not a string, or passing a store instance fails validation.
from typing import Any, TypeVar

import dagster as dg
from pydantic import BaseModel

from pipeline_core.links import asset_partition_url, project_page_url
from resources.object_store import ObjectStore

ModelT = TypeVar("ModelT", bound=BaseModel)


def asset_value_key(asset_key: dg.AssetKey, partition_key: str | None) -> str:
    return "assets/" + "/".join(asset_key.path) + "/" + (partition_key or "__unpartitioned__") + ".json"


class ArtifactJsonIOManager(dg.ConfigurableIOManager):
    """Writes pydantic values as JSON at assets/<asset>/<project>.json; reads them back typed."""

    store: dg.ResourceDependency[ObjectStore]
    # Links for people on every materialisation: the same project's page of the next stage in the UI,
    # and the project page (empty: no link).
    ui_url: str = ""
    page_url: str = ""
    next_asset: dict[str, str] = {}

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        if not isinstance(obj, BaseModel):
            raise TypeError(f"asset {context.asset_key.to_user_string()} must return a pydantic model")
        key = asset_value_key(context.asset_key, context.partition_key if context.has_partition_key else None)
        self.store.put_text(key, obj.model_dump_json(indent=2))
        metadata: dict[str, dg.MetadataValue] = {
            "stored_at": dg.MetadataValue.text(f"{self.store.url()}/{key}")
        }
        project = context.partition_key if context.has_partition_key else None
        following = self.next_asset.get(context.asset_key.to_user_string())
        if project and following and self.ui_url:
            metadata["next_stage"] = dg.MetadataValue.url(
                asset_partition_url(self.ui_url, following, project)
            )
        if project and self.page_url:
            metadata["project_page"] = dg.MetadataValue.url(project_page_url(self.page_url, project))
        context.add_output_metadata(metadata)

    def load_input(self, context: dg.InputContext) -> Any:
        key = asset_value_key(context.asset_key, context.partition_key if context.has_partition_key else None)
        model = context.dagster_type.typing_type
        try:
            text = self.store.get_text(key)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{context.asset_key.to_user_string()} has not been materialised for partition "
                f"{context.partition_key!r} yet (no {key} in {self.store.url()})"
            ) from None
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate_json(text)
        raise TypeError(f"input {context.name} must be annotated with a pydantic model type")


def read_previous_value(
    store: ObjectStore, asset: str, partition_key: str, model: type[ModelT], *, strict: bool = False
) -> ModelT | None:
    """The last stored value of `asset` for a partition (None if there is none).

    Stages read their own previous value to keep ids stable and to skip work whose inputs did not
    change. An unreadable value is skipped with a warning, or with `strict` raises (for a stage where
    starting from nothing would silently lose history).
    """
    key = asset_value_key(dg.AssetKey(asset), partition_key)
    try:
        text = store.get_text(key)
    except FileNotFoundError:
        return None
    try:
        return model.model_validate_json(text)
    except ValueError as error:
        if strict:
            count = error.error_count() if hasattr(error, "error_count") else 1
            raise ValueError(
                f"the stored {asset} value {store.url()}/{key} is unreadable ({count} validation errors); "
                "restore or delete it to start again"
            ) from None
        dg.get_dagster_logger().warning(
            f"ignoring an unreadable stored value of {asset} for {partition_key!r}"
        )
        return None
