//! SDK adapters behind small traits; pagination; one error enum. The only module that names `aws_sdk_*`.
