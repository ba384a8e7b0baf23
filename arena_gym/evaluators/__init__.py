"""Task scoring: WAA's metrics and getters by name, and its scoring algorithm."""

from .context import EvalContext
from .registry import EvaluatorError, WindowsOnly, get_getter, get_metric, getter, metric
from .scoring import EvalOutcome, evaluate

__all__ = ["EvalContext", "EvalOutcome", "EvaluatorError", "WindowsOnly", "evaluate", "get_getter", "get_metric",
           "getter", "metric"]
