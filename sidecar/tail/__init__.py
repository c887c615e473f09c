"""Reading Skyline's log files: live tailing through rotation and rewrites, and backfill.

names (which files are whose logs) -> scan (the followed files in the directory) -> generation
(one open file: new whole lines, anchors) with recovery (after a rewrite) and watch (wake-ups),
tied together by tailer; history (backfill) reads old files with logfiles (plain or gzip) and
the same chunk computation (chunk: a state advanced over bytes, the parser seam) as the tailer.
fileid holds the content hashes both verify offsets with.
"""
