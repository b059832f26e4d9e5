terraform import certctl_target.web01_nginx 01a24836-0c7e-7b41-8e0e-2f1d6f0a9c11
