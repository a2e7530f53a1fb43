// cgroup: being written (issue 3).
