"""The validation config (`conf/<env>/validation.yml`) parsed into strict pydantic models.

Unknown keys and unknown expectation names fail when the run starts, naming the key to change,
rather than silently validating nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def expectation_class(name: str) -> type:
    """Map ``expect_column_values_to_not_be_null`` to GX's ``ExpectColumnValuesToNotBeNull``."""
    import great_expectations as gx

    class_name = "".join(part.capitalize() for part in name.split("_"))
    cls = getattr(gx.expectations, class_name, None)
    if cls is None:
        raise ValueError(f"unknown Great Expectations expectation '{name}' (no gx.expectations.{class_name})")
    return cls


class DatasetSuite(BaseModel):
    """The expectations for one catalog dataset, run on the frame that ``frame`` builds from it."""

    model_config = ConfigDict(extra="forbid")

    frame: str = Field("records", description="name of a frame builder in lam_kedro.validation.frames")
    expectations: list[dict[str, dict[str, Any]]] = Field(default_factory=list)

    @field_validator("expectations")
    @classmethod
    def _one_key_each(cls, value: list[dict[str, dict[str, Any]]]) -> list[dict[str, dict[str, Any]]]:
        for i, item in enumerate(value):
            if len(item) != 1:
                raise ValueError(f"expectations[{i}] must have exactly one key (the expectation's name)")
            (name,) = item
            expectation_class(name)
        return value

    @field_validator("frame")
    @classmethod
    def _known_frame(cls, value: str) -> str:
        from lam_kedro.validation.frames import FRAMES

        if value not in FRAMES:
            raise ValueError(f"unknown frame '{value}'; known: {sorted(FRAMES)}")
        return value


class ValidationConfig(BaseModel):
    """Top level of ``validation.yml``: a switch and one suite per dataset name."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    max_examples: int = Field(5, ge=1, description="rows shown per failed expectation")
    datasets: dict[str, DatasetSuite] = Field(default_factory=dict)
