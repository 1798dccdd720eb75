"""The 四单 order workflow (点单 → 配单 → 接单 → 完成 → 评单) as a service layer."""
