"""Deployment on AWS from the repository: the template generated from the code, packaging, bootstrap commands.

- `python -m infra.package --stage prod`: the SAM template and code zip of a stage (`make package`);
- `python -m infra.publish_site --stage prod`: the static site to its bucket, then a CloudFront invalidation;
- `python -m infra.bootstrap_operator --stage prod --email ...`: the first operator account.

See docs/deploy.md.
"""
