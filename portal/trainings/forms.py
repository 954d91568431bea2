from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.billing.pricing import AudioType, Usage
from portal.fields import LocalDateTimeField, MoneyField
from portal.i18n import is_offered_timezone, repeated_time_note, timezone_choices
from portal.timezones import is_repeated_instant, local_to_utc

AUDIO_LABELS = {
    AudioType.NONE: _l("None"),
    AudioType.INTERNET: _l("Internet audio"),
    AudioType.TOLL: _l("Toll call-in"),
    AudioType.TOLL_FREE: _l("Toll-free call-in"),
    AudioType.CALLBACK: _l("Call-back"),
}

# Fields whose messages the live estimate panel shows while the organizer types.
LIVE_FIELDS = (
    "start",
    "duration_minutes",
    "capacity",
    "expected_attendees",
    "audio",
    "teleconference_participants",
    "session_fee",
)
ASK_CHOICES = [
    SelectChoice("off", _l("Don't ask")),
    SelectChoice("optional", _l("Optional")),
    SelectChoice("required", _l("Required")),
]

# Fields the estimate needs; the estimate is shown only when all of them are valid.
COST_FIELDS = ("duration_minutes", "expected_attendees", "audio", "teleconference_participants")


# Further ahead is a typing mistake (and near year 9999 dates overflow).
MAX_YEARS_AHEAD = 5


class SessionCostForm(FlaskForm):
    """What the live estimate reads: the cost fields and those checked with them (``LIVE_FIELDS``).

    The estimate panel's htmx requests build this alone: validating a title or a meeting link
    only to throw the messages away would cost every keystroke more than the estimate does.
    """

    start = LocalDateTimeField(_l("Start"))
    # Checked against a set in validate_timezone: WTForms' own check walks all ~430 options per request.
    timezone = SelectField(_l("Time zone"), validators=[DataRequired()], validate_choice=False)
    duration_minutes = IntegerField(
        _l("Duration (minutes)"),
        validators=[
            InputRequired(_l("Enter the duration in minutes.")),
            NumberRange(1, 1440, _l("The duration must be between 1 and 1440 minutes.")),
        ],
    )
    capacity = IntegerField(
        _l("Capacity"),
        validators=[
            InputRequired(_l("Enter the capacity.")),
            NumberRange(1, 100_000, _l("The capacity must be between 1 and 100000.")),
        ],
    )
    expected_attendees = IntegerField(
        _l("Expected attendees"),
        validators=[
            InputRequired(_l("Enter the expected number of attendees.")),
            NumberRange(0, 100_000, _l("Expected attendees must be between 0 and 100000.")),
        ],
    )
    audio = SelectField(
        _l("Audio"),
        choices=[SelectChoice(audio.value, label) for audio, label in AUDIO_LABELS.items()],
        default=AudioType.INTERNET.value,
    )
    teleconference_participants = IntegerField(
        _l("Teleconference participants"),
        default=0,
        validators=[
            InputRequired(_l("Enter the number of teleconference participants (0 for none).")),
            NumberRange(0, 100_001, _l("Teleconference participants must be between 0 and 100001.")),
        ],
    )
    session_fee = MoneyField(_l("Session fee"))

    def __init__(self, *args, currency: str, fee_enabled: bool, start_required: bool = True, **kw):
        super().__init__(*args, **kw)
        self.timezone.choices = timezone_choices()
        self.start_required = start_required
        if fee_enabled:
            self.session_fee.currency = currency
        else:
            # Fee-based training is off: no fee can be set at all.
            del self.session_fee

    def validate_timezone(self, field):
        if not is_offered_timezone(field.data):
            raise ValidationError(field.gettext("Not a valid choice."))

    def validate_start(self, field):
        if not is_offered_timezone(self.timezone.data):
            return  # the time zone field reports its own error
        if field.data is None:
            if self.start_required:
                raise ValidationError(_l("Enter the date and time the session starts."))
            return
        if not self.start_required:
            return  # "Start now": the start is now, whatever was typed
        latest = datetime.now(UTC).year + MAX_YEARS_AHEAD
        if not 2000 <= field.data.year <= latest:
            raise ValidationError(
                _l("The start must be within the next %(years)s years.", years=MAX_YEARS_AHEAD)
            )
        start_at = self.start_at_utc()
        if start_at is None:
            raise ValidationError(
                _l("This time does not exist in the chosen time zone (the clocks change then).")
            )
        if self.start_required and start_at < datetime.now(UTC):
            raise ValidationError(_l("The start cannot be in the past."))

    def validate_expected_attendees(self, field):
        if field.data is not None and self.capacity.data is not None and field.data > self.capacity.data:
            raise ValidationError(_l("Expected attendees cannot exceed the capacity."))

    def validate_teleconference_participants(self, field):
        audio = AudioType.parse(self.audio.data)
        attendees = self.expected_attendees.data
        if not (audio and audio.uses_teleconference) or attendees is None or field.data is None:
            return
        if field.data > attendees + 1:
            raise ValidationError(
                _l(
                    "Teleconference participants cannot exceed the %(computers)s computers "
                    "(expected attendees plus you).",
                    computers=attendees + 1,
                )
            )

    def start_at_utc(self) -> datetime | None:
        """The start as an aware UTC datetime; None for a wall time skipped by a DST change."""
        if self.start.data is None or not is_offered_timezone(self.timezone.data):
            return None
        # A time skipped by a spring-forward change is refused; a repeated one means the first
        # of the two (see portal/timezones.py).
        return local_to_utc(self.start.data, ZoneInfo(self.timezone.data))

    def start_hint(self) -> str | None:
        """Says which instant a wall time that happens twice (the clocks go back) means."""
        start_at = self.start_at_utc() if not self.start.errors else None
        if start_at is None or not is_repeated_instant(start_at, ZoneInfo(self.timezone.data)):
            return None
        return repeated_time_note(start_at, self.timezone.data)

    def usage(self) -> Usage | None:
        """The estimate's inputs, or None while any of them is invalid."""
        if any(getattr(self, name).errors for name in COST_FIELDS):
            return None
        audio = AudioType(self.audio.data)
        return Usage(
            duration_minutes=self.duration_minutes.data,
            expected_attendees=self.expected_attendees.data,
            audio=audio,
            teleconference_participants=(
                self.teleconference_participants.data if audio.uses_teleconference else 0
            ),
        )

    def clear_errors_outside_live_fields(self) -> None:
        """While estimating, only the cost fields speak: an empty title is not an error yet."""
        for name, field in self._fields.items():
            if name not in LIVE_FIELDS:
                field.errors = []

    def live_errors(self) -> list[str]:
        return [
            str(message)
            for name in LIVE_FIELDS
            if name in self._fields
            for message in self._fields[name].errors
        ]


class SessionForm(SessionCostForm):
    """The scheduling and editing page: the cost fields, and what guests see of the session."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    ask_company = SelectField(_l("Ask guests for their company"), choices=ASK_CHOICES, default="off")
    ask_phone = SelectField(_l("Ask guests for their phone"), choices=ASK_CHOICES, default="off")
    meeting_url = URLField(
        _l("Meeting link"),
        validators=[
            Optional(),
            Length(max=500),
            URL(require_tld=False, message=_l("Enter a web address starting with https://.")),
        ],
    )

    def validate_meeting_url(self, field):
        if field.data and not field.data.lower().startswith(("https://", "http://")):
            raise ValidationError(_l("Enter a web address starting with https://."))
