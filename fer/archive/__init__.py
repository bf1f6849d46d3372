"""Analysis of whole archives of videos and pictures: ``python -m fer analyze``.

:mod:`.inputs` finds the inputs and names their tables, :mod:`.task` is the one function that
turns an input into a finished table, :mod:`.manifest` remembers finished tables so a rerun
skips them, :mod:`.engines` decides where the task runs (a local process pool or Ray).
"""
