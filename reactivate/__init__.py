"""reactivate: plan the reactivation of a bank's dormant customers.

``import reactivate`` stays light: heavy libraries (pandas, scikit-learn,
matplotlib) are imported by the modules that need them, not here.
"""

from reactivate.errors import (
    ConfigError,
    InputDataError,
    NotFittedError,
    OutputError,
    ReactivateError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "InputDataError",
    "NotFittedError",
    "OutputError",
    "ReactivateError",
    "__version__",
]
