"""The Great Expectations gate really fails on bad data, and says where."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lam_kedro.validation.config import DatasetSuite, ValidationConfig
from lam_kedro.validation.gate import DataValidationError, validate_dataset


def _steps_trajectory(label: str, index: int = 0) -> dict:
    obs = {"title": "t", "controls": [{"label": "1", "control_text": "Bold", "control_type": "Button"}],
           "document": "", "selection": "", "error": None}
    return {"trajectory_id": "t1", "steps": [{"index": index, "observation": obs, "function": "click_input",
                                              "status": "FINISH", "control_label": label}]}


SUITE = DatasetSuite(
    frame="trajectory_steps",
    expectations=[
        {"expect_column_values_to_be_in_set": {"column": "label_in_observation", "value_set": [True]}},
        {"expect_column_values_to_be_in_set": {"column": "index_matches_position", "value_set": [True]}},
    ],
)


def test_clean_dataset_passes():
    assert validate_dataset("trajs", [_steps_trajectory("1")], SUITE) == 2


def test_corrupted_dataset_fails_naming_dataset_expectation_and_row():
    with pytest.raises(DataValidationError) as info:
        validate_dataset("trajs", [_steps_trajectory("1"), _steps_trajectory("7", index=3)], SUITE)
    message = str(info.value)
    assert "dataset 'trajs'" in message
    assert "expect_column_values_to_be_in_set" in message
    assert "label_in_observation" in message and "index_matches_position" in message
    assert "example rows [1]" in message


def test_records_frame_and_row_count():
    suite = DatasetSuite(expectations=[
        {"expect_column_values_to_not_be_null": {"column": "name"}},
        {"expect_table_row_count_to_be_between": {"min_value": 2}},
    ])
    assert validate_dataset("idx", [{"name": "a"}, {"name": "b"}], suite) == 2
    with pytest.raises(DataValidationError, match="expect_table_row_count_to_be_between"):
        validate_dataset("idx", [{"name": "a"}], suite)


def test_config_typos_fail_loudly():
    with pytest.raises(ValidationError, match="unknown Great Expectations expectation 'expect_colum_typo'"):
        DatasetSuite(expectations=[{"expect_colum_typo": {"column": "x"}}])
    with pytest.raises(ValidationError, match="unknown frame"):
        DatasetSuite(frame="nope")
    with pytest.raises(ValidationError, match="datasetz"):
        ValidationConfig(datasetz={})
