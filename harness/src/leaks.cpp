// leaks: being written (issue 3).
