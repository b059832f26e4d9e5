terraform import certctl_certificate.www 01a24836-b95b-7790-8454-4f8122771519
