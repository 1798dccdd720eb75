"""Every room's ORM tables on core.db.Base.metadata, for Alembic and the tests: importing
this module is what makes `Base.metadata` know them all.  A room with tables adds its line."""

import bot.models
import bot.wechat.models  # noqa: F401
import broadcasts.models  # noqa: F401
import core.lease  # noqa: F401
import nlu.models  # noqa: F401
import orders.models  # noqa: F401
import people.models  # noqa: F401
import reports.models  # noqa: F401
import web.models  # noqa: F401
