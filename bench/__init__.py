"""temporal-codec-bench: measure Temporal payload codecs on your own data.

Modules follow the flow of data: corpus -> codec (``payload_codecs``) -> measure -> results ->
report / compare / recommend. ``cli`` is the ``codec-bench`` command.
"""

__version__ = "0.2.0"
