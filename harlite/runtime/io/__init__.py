"""What comes in: sources (CSV files and streams, blocks of lines, app exports, phone
pushes, MQTT), the CSV layouts they read, and recordings folders. Predictions go out through
:mod:`harlite.runtime.sinks`, at the runtime's top.

Every source yields rows in seconds, g and rad/s with their line numbers; bad rows come with
a reason from the one table in :mod:`harlite.runtime.rows`.
"""
