"""Sensors: the bucket sensor that turns new and changed inbox documents into project runs."""
