terraform import certctl_notifier.ops 01a24837-6a2b-7c0d-9e1f-3a4b5c6d7e8f
