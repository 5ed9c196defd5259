"""The order stories are built in: layers of stories whose dependencies are all in earlier layers."""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter

from assets.requirements.models import RequirementsSet


class BuildOrderError(ValueError):
    """The stories' dependencies cannot be ordered; `cycle` names the stories that wait on each other
    (the first and last entries are the same story)."""

    def __init__(self, cycle: list[str]) -> None:
        super().__init__("dependency cycle between stories: " + " -> ".join(cycle))
        self.cycle = cycle


def plan_build_order(requirements: RequirementsSet) -> list[list[str]]:
    """Story ids in topological layers of `depends_on`; each layer keeps the requirements' order, and
    the stories of one layer do not depend on each other (they may be built concurrently).

    A dependency on a story that is not in the set is ignored (nothing can be waited for); a cycle
    raises BuildOrderError naming it.
    """
    position = {story.id: index for index, story in enumerate(requirements.stories)}
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for story in requirements.stories:
        sorter.add(story.id, *(dep for dep in story.depends_on if dep in position and dep != story.id))
        if story.id in story.depends_on:
            raise BuildOrderError([story.id, story.id])
    try:
        sorter.prepare()
    except CycleError as error:
        raise BuildOrderError(list(error.args[1])) from None
    layers: list[list[str]] = []
    while sorter.is_active():
        layer = sorted(sorter.get_ready(), key=position.__getitem__)
        layers.append(layer)
        sorter.done(*layer)
    return layers
