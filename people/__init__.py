"""The people who run a station and who ask it for help, as the domain sees them.

- `people.identities` – user keys (`tg:123`, `wx:<openid>`, `cli:name`) and who is behind one:
  a resident always, some also a volunteer (a team member in config.yml) or staff.
- `people.service.People` – the one door: identify, reach (chat keys of volunteers and staff),
  volunteer sign-ups (当志愿者) and staff hand-offs (找工作人员), each checked against the actor.
- `people.models` – the sign-up and hand-off tables.
"""
