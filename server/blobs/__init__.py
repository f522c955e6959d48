"""Where the bytes of attachments live: the local disk or an S3 bucket."""
