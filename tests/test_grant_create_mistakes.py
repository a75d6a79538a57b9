"""`grant create` catches the mistakes people make writing a grant: territories that are not
ISO 3166-1 alpha-2 codes, purposes outside the vocabulary, and terms that are already over.

Each is refused with the value meant, before anything is written; the verifier still reads a
grant an older version wrote in lower case as the country it names.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from provsdk.credentials import Role, load_signer
from provsdk.errors import ConfigurationError
from provsdk.grants import create_grant, parse_grant, sign_grant
from provsdk.home import ProvsdkHome
from provsdk.models.grant import PURPOSES, SCOPE_UID, Constraint, Grant, Party, Rule, Target
from provsdk.server.config import LicenceOffer
from provsdk_cli.main import cli

TODAY = dt.datetime.now(dt.UTC).date()
LAST_MONTH = (TODAY - dt.timedelta(days=30)).isoformat()
NEXT_YEAR = (TODAY + dt.timedelta(days=365)).isoformat()


def grant(**terms: Any) -> Grant:
    args: dict[str, Any] = {
        "licensor": "Harbor Music",
        "licensee": "Game Studio",
        "purposes": ["commercial"],
        "territories": ["US"],
        "until": NEXT_YEAR,
        "scope_model": "provsdk-local 2.0",
    }
    args.update(terms)
    return create_grant(**args)


def refused(**terms: Any) -> str:
    """The one-line message ``create_grant`` refuses these terms with."""
    with pytest.raises(ConfigurationError) as caught:
        grant(**terms)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- territories --------------------------------------------------------------------------------


def test_territory_usa_suggests_US() -> None:
    assert 'did you mean "US"?' in refused(territories=["usa"])


def test_territory_lowercase_us_is_normalised() -> None:
    assert grant(territories=["us", " de "]).territories() == ["DE", "US"]


def test_territory_uk_suggests_GB() -> None:
    assert 'did you mean "GB"?' in refused(territories=["UK"])


def test_territory_country_name_suggests_its_code() -> None:
    assert 'did you mean "GB"?' in refused(territories=["United Kingdom"])
    assert 'did you mean "DE"?' in refused(territories=["germany"])


def test_territory_misspelt_country_name_suggests_its_code() -> None:
    assert 'did you mean "DE"?' in refused(territories=["Germny"])


def test_territory_numeric_code_suggests_alpha_2() -> None:
    assert 'did you mean "US"?' in refused(territories=["840"])


def test_territory_region_is_refused_naming_its_country() -> None:
    message = refused(territories=["US-CA"])
    assert "region" in message and 'did you mean "US"?' in message


def test_territory_made_up_code_is_refused() -> None:
    message = refused(territories=["XX"])
    assert "'XX'" in message and "ISO 3166-1 alpha-2" in message and "WORLD" in message


def test_territory_world_in_lower_case_is_kept() -> None:
    assert grant(territories=["world"]).territories() == ["WORLD"]
    assert grant(territories=["world"]).permits(purpose="commercial", territory="JP")


def test_territory_worldwide_suggests_WORLD() -> None:
    assert 'did you mean "WORLD"?' in refused(territories=["worldwide"])


def test_territory_none_at_all_is_refused() -> None:
    assert "at least one territory" in refused(territories=[])


def test_territory_mistake_refused_among_good_ones() -> None:
    assert "'usa'" in refused(territories=["CA", "usa"])


# --- purposes -----------------------------------------------------------------------------------


def test_purpose_typo_suggests_commercial() -> None:
    assert 'did you mean "commercial"?' in refused(purposes=["comercial"])


def test_purpose_unknown_lists_the_vocabulary() -> None:
    message = refused(purposes=["world domination"])
    assert "did you mean" not in message
    assert message.endswith(f"the purposes are {', '.join(PURPOSES)}")


def test_purpose_longer_word_suggests_the_one_it_starts_with() -> None:
    assert 'did you mean "promo"?' in refused(purposes=["promotional"])


def test_purpose_in_capitals_is_normalised() -> None:
    assert grant(purposes=["Commercial", "AI training"]).purposes() == ["ai-training", "commercial"]


def test_prohibited_purpose_typo_is_refused() -> None:
    # A misspelt prohibition forbids nothing anyone will ask about: worse than a refusal.
    assert 'did you mean "political"?' in refused(prohibited=["politcal"])


# --- the term -----------------------------------------------------------------------------------


def test_until_in_the_past_is_refused() -> None:
    message = refused(until=LAST_MONTH)
    assert f"--until {LAST_MONTH} is in the past" in message and "--allow-past" in message


def test_allow_past_accepts_an_expired_term() -> None:
    g = grant(until=LAST_MONTH, allow_past=True)
    assert g.valid_until == LAST_MONTH
    assert not g.in_force(TODAY)


def test_until_today_is_accepted() -> None:
    assert grant(until=TODAY).valid_until == TODAY.isoformat()


def test_until_before_from_is_refused() -> None:
    message = refused(since="2031-01-01", until="2030-12-31")
    assert "end before it starts" in message and "2030-12-31" in message
    assert "2031-01-01" in message


def test_until_before_from_is_refused_even_with_allow_past() -> None:
    assert "end before it starts" in refused(
        since=LAST_MONTH, until=(TODAY - dt.timedelta(days=40)).isoformat(), allow_past=True
    )


# --- the verifier side --------------------------------------------------------------------------


def test_grant_signed_with_lowercase_us_still_answers_for_US(dev_home: ProvsdkHome) -> None:
    # As an older provsdk, or a hand-written document, could have signed it.
    old = Grant(
        uid="urn:uuid:00000000-0000-4000-8000-000000000001",
        assigner=Party("Harbor Music"),
        assignee=Party("Game Studio"),
        target=Target(uid=SCOPE_UID, model="provsdk-local 2.0", licensee="Game Studio"),
        permissions=(
            Rule(
                "use",
                (
                    Constraint("purpose", "isAnyOf", ("commercial",)),
                    Constraint("spatial", "isAnyOf", ("us",)),
                ),
            ),
        ),
    )
    signer = load_signer(Role.LICENSOR, home=dev_home, use_env=False)
    read = parse_grant(sign_grant(old, signer))
    assert read.permits(purpose="commercial", territory="US")
    assert read.permits(purpose="commercial", territory="us")
    assert not read.permits(purpose="commercial", territory="CA")


# --- the command --------------------------------------------------------------------------------


def create(tmp_path: Path, *terms: str) -> tuple[int, str, Path]:
    out = tmp_path / "grant.json"
    args = ["grant", "create", "--licensor", "Harbor Music", "--licensee", "Game Studio"]
    args += ["--scope-model", "provsdk-local 2.0", *terms, "-o", str(out)]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.stderr, out


def test_cli_territory_usa_exits_2_with_one_line(tmp_path: Path) -> None:
    code, err, out = create(tmp_path, "--purpose", "commercial", "--territory", "usa")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and 'did you mean "US"?' in err
    assert not out.exists()


def test_cli_purpose_typo_exits_2_with_one_line(tmp_path: Path) -> None:
    code, err, out = create(tmp_path, "--purpose", "comercial")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and 'did you mean "commercial"?' in err
    assert not out.exists()


def test_cli_until_in_the_past_exits_2_unless_allow_past(tmp_path: Path) -> None:
    terms = ("--purpose", "commercial", "--territory", "us", "--until", LAST_MONTH)
    code, err, out = create(tmp_path, *terms)
    assert code == 2 and "in the past" in err and not out.exists()
    code, err, out = create(tmp_path, *terms, "--allow-past")
    assert code == 0, err
    written = out.read_text()
    assert re.search(r'"rightOperand":\s*\[\s*"US"\s*\]', written)
    assert LAST_MONTH in written


@pytest.mark.parametrize(
    "offer",
    [{"purposes": ("comercial",)}, {"territories": ("usa",)}, {"purposes": ()}, {"term_days": 0}],
    ids=["misspelt-purpose", "alpha-3-territory", "no-purpose", "no-term"],
)
def test_server_licence_offer_with_a_mistake_refuses_to_start(offer: dict[str, Any]) -> None:
    # The operator's mistake would otherwise surface as every generation's grant failing.
    with pytest.raises(ConfigurationError):
        LicenceOffer(**offer)


def test_server_licence_offer_is_normalised_as_grant_create_would() -> None:
    offer = LicenceOffer(purposes=("Commercial",), territories=("us", "world"))
    assert offer.purposes == ("commercial",) and offer.territories == ("US", "WORLD")
