"""The web console (网页管理后台) for station admins, approvers and loudspeaker operators."""
