"""What the Spark tests share: skipped without pyspark (``pip install 'reactivate[spark]'``) or without Java,
the group's marks, and the settings of one small local session (two cores, a little memory, few shuffle
partitions: the books here are small; ``conftest.spark`` starts it). A Spark test module imports
``from tests.spark_local import LOCAL, SPARK_MARKS`` before anything of pyspark's and sets
``pytestmark = SPARK_MARKS``."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("the Spark engine needs Java (openjdk-17-jre-headless)", allow_module_level=True)

from reactivate.config.campaign import SparkSettings

#: the Spark group (``pytest -m spark``); pyspark 4.0 passes pandas 3 a deprecated keyword (copy=) when it
#: converts batches
SPARK_MARKS = [pytest.mark.spark, pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
LOCAL = SparkSettings(master="local[2]", conf={"spark.driver.memory": "2g", "spark.sql.shuffle.partitions": "4",
                                               "spark.ui.enabled": "false"})
