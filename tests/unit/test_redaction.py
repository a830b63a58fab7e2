"""PII redaction: every kind is replaced, business identifiers survive, and it is idempotent."""

from __future__ import annotations

import pytest

from core.redaction import RedactionResult, redact


def _assert_redacted(text: str, kind: str, secret: str) -> RedactionResult:
    result = redact(text)
    assert secret not in result.text, result.text
    assert f"[{kind}]" in result.text, result.text
    assert result.counts.get(kind, 0) >= 1, result.counts
    return result


# --------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Please reply to lena.schulz@example.de thanks", "lena.schulz@example.de"),
        ("contact: m.rossi+pharmacy@posta.example.it", "m.rossi+pharmacy@posta.example.it"),
        ("Mail: JOHN_DOE99@Example.CO.UK.", "JOHN_DOE99@Example.CO.UK"),
    ],
)
def test_email_addresses_become_email_placeholder(text: str, secret: str) -> None:
    _assert_redacted(text, "EMAIL", secret)


# --------------------------------------------------------------------------- phone


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Call me on +44 20 7946 0958 after six", "7946 0958"),
        ("Mein Handy: +49 (0)151 2345 6789", "2345 6789"),
        ("you can reach me at (555) 123-4567", "123-4567"),
        ("my cell is 555.123.4567", "555.123.4567"),
        ("Tel. 030/12345678 bitte", "030/12345678"),
        ("mon portable 06 12 34 56 78", "06 12 34 56 78"),
        ("mi móvil es 612 345 678", "612 345 678"),
        ("bel me op 020-1234567", "020-1234567"),
        ("phone: 07700900123", "07700900123"),
        ("0044 20 7946 0958 is my landline", "7946 0958"),
    ],
)
def test_phone_numbers_in_international_and_national_formats_become_phone(text: str, secret: str) -> None:
    _assert_redacted(text, "PHONE", secret)


def test_phone_after_a_date_is_found_without_eating_the_date() -> None:
    result = redact("Delivered 12.03.2024, call 020 7946 0958")
    assert result.text == "Delivered 12.03.2024, call [PHONE]"


# --------------------------------------------------------------------------- card, iban


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("card 4111 1111 1111 1111 expires soon", "4111 1111 1111 1111"),
        ("Mastercard 5555-5555-5555-4444", "5555-5555-5555-4444"),
        ("amex 378282246310005", "378282246310005"),
    ],
)
def test_luhn_valid_card_numbers_become_card(text: str, secret: str) -> None:
    _assert_redacted(text, "CARD", secret)


def test_card_shaped_number_failing_luhn_is_kept() -> None:
    assert redact("ref 4111 1111 1111 1112").text == "ref 4111 1111 1111 1112"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("IBAN: DE89 3704 0044 0532 0130 00 bitte", "DE89 3704 0044 0532 0130 00"),
        ("refund to GB82 WEST 1234 5698 7654 32 please", "GB82 WEST 1234 5698 7654 32"),
        ("rekening NL91ABNA0417164300", "NL91ABNA0417164300"),
        ("virement sur FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606"),
    ],
)
def test_checksum_valid_ibans_become_iban(text: str, secret: str) -> None:
    result = _assert_redacted(text, "IBAN", secret)
    assert "CARD" not in result.counts


def test_iban_trailing_word_is_not_swallowed() -> None:
    assert redact("pay to DE89 3704 0044 0532 0130 00 then call").text == "pay to [IBAN] then call"


# --------------------------------------------------------------------------- national ids


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("My SSN is 078-05-1120", "078-05-1120"),
        ("NHS number 943 476 5919", "943 476 5919"),
        ("passport number X1234567 expires", "X1234567"),
        ("NI number QQ 12 34 56 C", "QQ 12 34 56 C"),
        ("Codice fiscale: RSSMRA85T10A562S", "RSSMRA85T10A562S"),
        ("mi DNI es 12345678Z", "12345678Z"),
        ("BSN 123456782", "123456782"),
        ("PESEL 44051401359", "44051401359"),
    ],
)
def test_national_identifiers_become_national_id(text: str, secret: str) -> None:
    _assert_redacted(text, "NATIONAL_ID", secret)


# --------------------------------------------------------------------------- date of birth


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("DOB: 12/03/1985", "12/03/1985"),
        ("date of birth 3 March 1985", "3 March 1985"),
        ("born on March 3rd, 1985", "March 3rd, 1985"),
        ("geboren am 12.03.1985", "12.03.1985"),
        ("Ich bin am 3. März 1980 geboren", "3. März 1980"),
        ("née le 5 mars 1970", "5 mars 1970"),
        ("fecha de nacimiento: 12 de marzo de 1980", "12 de marzo de 1980"),
        ("data di nascita 1980-02-29", "1980-02-29"),
        ("geboortedatum 01-02-1990", "01-02-1990"),
    ],
)
def test_dates_introduced_as_birth_dates_become_dob(text: str, secret: str) -> None:
    _assert_redacted(text, "DOB", secret)


# --------------------------------------------------------------------------- address


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Send it to 221B Baker Street, London NW1 6XE.", "Baker Street"),
        ("I live at 42 Elm Road", "42 Elm Road"),
        ("Lieferadresse: Hauptstraße 5, 10115 Berlin", "Hauptstraße 5"),
        ("Berliner Straße 12 im Hinterhaus", "Berliner Straße 12"),
        ("12 bis rue de la Paix, 75002 Paris", "rue de la Paix"),
        ("Calle Mayor 5, 28013 Madrid", "Calle Mayor 5"),
        ("Via Roma 10, Milano", "Via Roma 10"),
        ("Kerkstraat 12a, 1012 AB Amsterdam", "Kerkstraat 12a"),
        ("ul. Marszałkowska 12/5, 00-950 Warszawa", "Marszałkowska 12/5"),
        ("Rua Augusta, 100", "Rua Augusta, 100"),
    ],
)
def test_street_addresses_become_address(text: str, secret: str) -> None:
    _assert_redacted(text, "ADDRESS", secret)


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Hi, my name is John Smith and my order is late", "John Smith"),
        ("This is Maria from the clinic", "Maria"),
        ("I am Peter van der Berg", "Peter van der Berg"),
        ("ich heiße Anna Müller", "Anna Müller"),
        ("je m'appelle Jean-Pierre Dupont", "Jean-Pierre Dupont"),
        ("me llamo Lucía Fernández", "Lucía Fernández"),
        ("mi chiamo Giulia", "Giulia"),
        ("Nazywam się Anna Kowalska", "Anna Kowalska"),
        ("Please cancel.\n\nKind regards,\nJohn Smith", "John Smith"),
        ("That is all. Thanks, Jane", "Jane"),
        ("Best,\n\nDr. Ronald McDonald", "McDonald"),
        ("Mit freundlichen Grüßen\nKlaus Weber", "Klaus Weber"),
    ],
)
def test_explicitly_introduced_names_and_sign_offs_become_name(text: str, secret: str) -> None:
    _assert_redacted(text, "NAME", secret)


@pytest.mark.parametrize(
    "text",
    [
        "I am Pregnant and worried",
        "I'm writing about my order",
        "This is urgent",
        "I am Type 2 diabetic",
        "Thanks for the quick reply",
        "Merci Beaucoup",
        "this is the wrong medicine",
    ],
)
def test_capitalised_words_after_name_triggers_that_are_not_names_survive(text: str) -> None:
    assert redact(text).text == text


# --------------------------------------------------------------------------- ip


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("login from 192.168.0.12 failed", "192.168.0.12"),
        ("IPv6 fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a"),
        ("address 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    ],
)
def test_ip_addresses_become_ip(text: str, secret: str) -> None:
    _assert_redacted(text, "IP", secret)


# --------------------------------------------------------------------------- survivors


@pytest.mark.parametrize(
    "text",
    [
        "Where is order 12345678?",
        "Ticket #A1234567 is still open",
        "Order ORD-2024-11873 arrived damaged",
        "Bestellnummer 4400 1234 5678",
        "order 123-45-6789 is missing",
        "tracking number 9400 1000 0000 0000 0000 00",
        "batch 1234 5678 90 looks different",
        "PZN 12345678",
        "Rx 1234567 is ready?",
        "I take Metformin 500 mg twice daily",
        "Ibuprofen 400mg, 2 x 20 tablets",
        "Amoxicillin 250 mg/5 ml suspension, 100 ml",
        "I ordered on 12.03.2024 and again on 2024-11-02",
        "delivered on 3 March 2024",
        "in 2023 2024 2025 I used the same pharmacy",
        "at 10:30 or 14.30 please",
        "I paid €1 234 567 by mistake",
        "1 000 000 units of vitamin D",
        "Took 2 pills all the way home",
        "https://shop.example.com/order/12345678",
        "5551234567",
    ],
)
def test_order_numbers_doses_dates_and_drug_names_survive_unchanged(text: str) -> None:
    result = redact(text)
    assert result.text == text
    assert result.counts == {}


def test_counts_report_each_kind_separately() -> None:
    result = redact(
        "I'm Jane Doe, email jane@example.org, phone +44 20 7946 0958 or 020 7946 0959, DOB 01/02/1980"
    )
    assert result.counts == {"EMAIL": 1, "PHONE": 2, "DOB": 1, "NAME": 1}


def test_mixed_message_keeps_the_service_details() -> None:
    text = (
        "Hi, my name is Tom Baker. Order ORD-2024-11873 (Sertraline 50 mg) never arrived at "
        "12 Oak Lane. Call me on 07700 900123 or tom.baker@example.com. Thanks, Tom"
    )
    result = redact(text)
    assert result.text == (
        "Hi, my name is [NAME]. Order ORD-2024-11873 (Sertraline 50 mg) never arrived at "
        "[ADDRESS]. Call me on [PHONE] or [EMAIL]. Thanks, [NAME]"
    )


# --------------------------------------------------------------------------- idempotence


@pytest.mark.parametrize(
    "text",
    [
        "Hi, my name is John Smith, DOB 12/03/1985, phone +44 20 7946 0958, john@example.com",
        "IBAN DE89 3704 0044 0532 0130 00, card 4111 1111 1111 1111, SSN 078-05-1120",
        "Hauptstraße 5, 10115 Berlin. Mit freundlichen Grüßen\nKlaus Weber",
        "from 10.0.0.1, NHS number 943 476 5919, Regards,\nAnn Lee",
        "Order ORD-2024-11873, 500 mg, delivered 2024-11-02",
        "",
    ],
)
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text)
    twice = redact(once.text)
    assert twice.text == once.text
    assert twice.counts == {}


def test_result_is_a_frozen_dataclass() -> None:
    result = redact("hello")
    with pytest.raises(AttributeError):
        result.text = "changed"  # type: ignore[misc]


# --------------------------------------------------------------------------- issue 7 cases


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("hi this is anna schmidt, my order is late", "anna schmidt"),
        ("my son Tom has a rash", "Tom"),
        ("Patient: John Smith, allergic to penicillin", "John Smith"),
        ("The parcel is missing.\n\nKind regards,\nMARGARET HOLLOWAY", "MARGARET HOLLOWAY"),
        ("Hello,\nany news on my refund?\n\nALAN REID", "ALAN REID"),
        ("Здравствуйте, меня зовут Иван Петров", "Иван Петров"),
        ("The README example: I'm Jane and my order is late", "Jane"),
    ],
)
def test_names_in_the_positions_the_issue_lists_become_name(text: str, secret: str) -> None:
    _assert_redacted(text, "NAME", secret)


def test_drug_name_after_this_is_survives() -> None:
    assert (
        redact("This is Lisinopril 10mg, is it the same?").text == "This is Lisinopril 10mg, is it the same?"
    )


def test_spoken_digits_in_a_voice_transcript_are_redacted() -> None:
    result = redact("you can call me on four one five, five five five, zero one three two thanks")
    assert result.text == "you can call me on [PHONE] thanks"


def test_card_after_customer_number_is_a_card_and_plain_customer_numbers_are_account_ids() -> None:
    assert redact("customer number is 4539 5260 1815 9083").text == "customer number is [CARD]"
    assert redact("my customer number is 55120934").text == "my customer number is [ACCOUNT_ID]"
    spoken = redact("card four five three nine five two six zero one eight one five nine zero eight three")
    assert spoken.counts == {"CARD": 1}


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("BSN 735379907", "735379907"),
        ("Steuer-ID 72689542022", "72689542022"),
        ("NIR 185057800608491", "185057800608491"),
        ("NIE X4821736Q", "X4821736Q"),
        ("CPF 390.533.447-05", "390.533.447-05"),
    ],
)
def test_checksum_validated_national_ids(text: str, secret: str) -> None:
    _assert_redacted(text, "NATIONAL_ID", secret)


def test_readme_example_loses_the_name_that_echoes_the_email() -> None:
    result = redact("Please cancel order 88231, I ordered it twice. Jane, jane@example.com")
    assert result.text == "Please cancel order 88231, I ordered it twice. [NAME], [EMAIL]"
