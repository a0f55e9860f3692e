"""The request and response bodies, as pydantic models: they validate what comes in
and document the API (OpenAPI at /docs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

__all__ = ["InferRequest", "InferResponse", "InferTensor", "ModelMetadata", "PredictRequest",
           "PredictResponse", "TensorMetadata"]


class PredictRequest(BaseModel):
    """One row to score: its entity keys and request-time fields."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"keys": {"customer_id": "17", "terminal_id": "42"},
         "fields": {"amount": 57.3, "transaction_id": 981}}]})

    keys: dict[str, Any] = Field(description="The entity key columns of the model's "
                                       "features, e.g. customer_id and terminal_id.")
    fields: dict[str, Any] = Field(default_factory=dict, description=(
        "Request-time values: the model's `request:` inputs, and values that override an "
        "online feature of the same column name. Others are kept in the prediction log."))
    at: datetime | None = Field(default=None, description=(
        "When to evaluate the windows (ISO 8601 with a zone); default: now."))

    @field_validator("at", mode="before")
    @classmethod
    def _iso_text(cls, value: Any) -> Any:
        """Only ISO 8601 text: a number (or digits) would be read as seconds or
        milliseconds since the epoch, whichever its size suggests, a guess."""
        if value is None or isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        raise PydanticCustomError("datetime_parsing", "must be an ISO 8601 time with a "
                                  "zone, as text")


class PredictResponse(BaseModel):
    id: str = Field(description="The prediction's id (UUIDv7), as in the prediction log.")
    model: str
    version: int = Field(description="The model version that scored.")
    score: float = Field(description="For a binary model, the positive class's probability.")
    missing: list[str] = Field(description="Input columns that got their default: their "
                               "entity has no online state (never seen, or expired).")
    features: dict[str, Any] | None = Field(default=None, description=(
        "The model's input, column -> value (null where missing); with "
        "?include_features=true."))


class InferTensor(BaseModel):
    """An Open Inference Protocol v2 tensor: one entity key column or field per tensor."""

    name: str
    shape: list[int]
    datatype: str = Field(description="BYTES for strings; INT64, INT32, FP64, FP32, BOOL...")
    data: list[Any]
    parameters: dict[str, Any] | None = None


class InferRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"inputs": [
        {"name": "customer_id", "shape": [2], "datatype": "BYTES", "data": ["17", "18"]},
        {"name": "terminal_id", "shape": [2], "datatype": "BYTES", "data": ["42", "7"]},
        {"name": "amount", "shape": [2], "datatype": "FP64", "data": [57.3, 12.0]}]}]})

    id: str | None = None
    inputs: list[InferTensor]
    parameters: dict[str, Any] | None = Field(default=None, description=(
        "`include_features`: true adds one output per input column; `at`: when to "
        "evaluate the windows (ISO 8601 with a zone)."))
    outputs: list[dict[str, Any]] | None = None


class InferResponse(BaseModel):
    model_name: str
    model_version: str
    id: str | None = None
    outputs: list[InferTensor]


class TensorMetadata(BaseModel):
    name: str
    datatype: str
    shape: list[int]


class ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]
