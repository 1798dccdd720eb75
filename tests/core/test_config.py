"""config.yml validation: one clear message naming the file and key path, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from core.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def demo() -> dict:
    return yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))


def test_demo_config_is_valid_and_complete(config):
    assert len(config.centre.institutes) == 2 and len(config.villages) >= 5
    assert {s.id for s in config.menu.services} >= {
        "free_clinic", "health_talk", "haircut", "appliance_repair", "utility_repair", "elderly_visit",
        "homework_help", "disability_help", "agri_tech", "skills_training", "legal_consult", "mediation",
        "policy_talk", "performance", "dance_class", "spring_couplets", "wedding_funeral",
        "anti_fraud_talk", "drowning_safety", "blood_donation",
    }  # fmt: skip
    assert "金剪子理发队" in {t.name for t in config.teams}
    assert config.institute_of("yangliu").id == "liuhe"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["centre"]["institutes"][0]["villages"][0].update(slots=["25:00"]),
            "centre.institutes.0.villages.0.slots.0",
        ),
        (lambda d: d["teams"][0].update(services=["teleport"]), "unknown service 'teleport'"),
        (lambda d: d["teams"][0].update(area="qingshi"), "teams[0].area: 'qingshi' is not a station id"),
        (lambda d: d["staff"][0].update(roles=["king"]), "staff.0.roles.0"),
        (lambda d: d.update(colour="red"), "colour: Extra inputs are not permitted"),
        (lambda d: d["orders"].update(accept_deadline_minutes=0), "orders.accept_deadline_minutes"),
        (lambda d: d["centre"]["institutes"][1]["villages"][0].update(aliases=["东山"]), "'东山' is used by both"),
        (lambda d: d["menu"]["services"].append(dict(d["menu"]["services"][0])), "duplicate 'free_clinic'"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, demo, mutate, expected):
    mutate(demo)
    path = write(tmp_path, demo)
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    assert str(path) in str(err.value) and expected in str(err.value)


def test_yaml_syntax_error_gives_line(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("centre: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line \d+"):
        load_config(path, environ={})


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yml", environ={})


def test_environment_overrides_secrets_and_database(demo, tmp_path):
    path = write(tmp_path, demo)
    config = load_config(
        path, environ={"XIANGYIN_DATABASE_URL": "postgresql://x@h/db", "XIANGYIN_TELEGRAM_TOKEN": "123:abc"}
    )
    assert config.database.url == "postgresql://x@h/db" and config.telegram.token == "123:abc"


@pytest.mark.slow  # `xiangyin` processes
def test_cli_reports_bad_config_without_traceback(tmp_path, demo):
    demo["teams"][0]["tier"] = "galaxy"
    path = write(tmp_path, demo)
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "menu"], capture_output=True, text=True, cwd=ROOT,
        env={"XIANGYIN_CONFIG": str(path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert out.returncode == 78
    assert "Traceback" not in out.stderr and "teams.0.tier" in out.stderr and str(path) in out.stderr
