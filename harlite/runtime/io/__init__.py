"""What comes in and what goes out: sources (CSV files and streams, blocks of lines, app
exports, phone pushes, MQTT), the CSV layouts they read, recordings folders, and sinks.

Every source yields rows in seconds, g and rad/s with their line numbers; bad rows come with
a reason from :mod:`harlite.runtime.io.reasons`.
"""
