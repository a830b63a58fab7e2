"""Service actions and references must be extracted deterministically in every language."""

from __future__ import annotations

import pytest

from core.service_requests import ServiceActionKind, ServiceRequest, extract_service_request

Kind = ServiceActionKind


@pytest.mark.parametrize(
    ("text", "expected_kind"),
    [
        # cancel_order
        ("Please cancel my order, I ordered the wrong size", Kind.cancel_order),
        ("Bitte stornieren Sie meine Bestellung", Kind.cancel_order),
        ("Je souhaite annuler ma commande", Kind.cancel_order),
        ("Quiero cancelar el pedido que hice ayer", Kind.cancel_order),
        ("Vorrei annullare l'ordine di ieri", Kind.cancel_order),
        ("Ik wil mijn bestelling annuleren", Kind.cancel_order),
        # refund
        ("I still haven't been refunded for the missing cream", Kind.refund),
        ("Wann bekomme ich mein Geld zurück?", Kind.refund),
        ("Je voudrais être remboursée pour ce produit", Kind.refund),
        ("¿Cuándo recibiré el reembolso?", Kind.refund),
        ("Vorrei un rimborso per il prodotto", Kind.refund),
        ("Ik wil graag mijn geld terug", Kind.refund),
        ("How do I send back the thermometer?", Kind.refund),
        # address_change
        ("I need to change the delivery address on my order", Kind.address_change),
        ("Ich bin umgezogen, bitte die Adresse ändern", Kind.address_change),
        ("Je dois modifier mon adresse de livraison", Kind.address_change),
        ("Necesito cambiar la dirección de entrega", Kind.address_change),
        ("Posso cambiare l'indirizzo di consegna?", Kind.address_change),
        ("Kan ik mijn adres wijzigen?", Kind.address_change),
        # tracking
        ("Where's my parcel? It was due on Monday", Kind.tracking),
        ("Wo bleibt meine Lieferung?", Kind.tracking),
        ("Où en est ma commande ?", Kind.tracking),
        ("Mi paquete todavía no ha llegado", Kind.tracking),
        ("Il mio pacco non è ancora arrivato", Kind.tracking),
        ("Mijn pakket is nog niet bezorgd", Kind.tracking),
        # prescription_renewal
        ("Can you renew my blood pressure prescription?", Kind.prescription_renewal),
        ("I'm running out of my inhaler", Kind.prescription_renewal),
        ("Ich brauche ein Folgerezept für meine Tabletten", Kind.prescription_renewal),
        ("Pouvez-vous renouveler mon ordonnance ?", Kind.prescription_renewal),
        ("Necesito renovar mi receta", Kind.prescription_renewal),
        ("Vorrei rinnovare la ricetta", Kind.prescription_renewal),
        ("Graag een herhaalrecept voor mijn medicatie", Kind.prescription_renewal),
        # billing
        ("My card was charged twice for one order", Kind.billing),
        ("Can I get an invoice for my purchase?", Kind.billing),
        ("Ich brauche eine Rechnung für die Krankenkasse", Kind.billing),
        ("Pouvez-vous m'envoyer la facture ?", Kind.billing),
        ("Me han cobrado dos veces", Kind.billing),
        ("Ho ricevuto un doppio addebito", Kind.billing),
        ("Ik heb geen factuur ontvangen", Kind.billing),
        # account_data_request
        ("Please delete my account and everything you store", Kind.account_data_request),
        ("I'd like a copy of my personal data under GDPR", Kind.account_data_request),
        ("Bitte löschen Sie mein Kundenkonto", Kind.account_data_request),
        ("Je veux supprimer mon compte", Kind.account_data_request),
        ("Quiero borrar mis datos personales", Kind.account_data_request),
        ("Vorrei eliminare il mio account", Kind.account_data_request),
        ("Graag mijn account verwijderen", Kind.account_data_request),
        # password_reset
        ("I can't log in to the app", Kind.password_reset),
        ("Ich habe mein Passwort vergessen", Kind.password_reset),
        ("J'ai oublié mon mot de passe", Kind.password_reset),
        ("No puedo iniciar sesión", Kind.password_reset),
        ("Non riesco ad accedere al sito", Kind.password_reset),
        ("Ik ben mijn wachtwoord vergeten", Kind.password_reset),
        # human_agent
        ("Can I talk to a real person please?", Kind.human_agent),
        ("Ich möchte mit einem Mitarbeiter sprechen", Kind.human_agent),
        ("Je veux parler à un conseiller", Kind.human_agent),
        ("Quiero hablar con una persona", Kind.human_agent),
        ("Voglio parlare con un operatore", Kind.human_agent),
        ("Ik wil een medewerker spreken", Kind.human_agent),
        # complaint
        ("The courier was rude and I want to complain", Kind.complaint),
        ("Ich möchte mich beschweren", Kind.complaint),
        ("Je veux déposer une plainte", Kind.complaint),
        ("Quiero poner una queja", Kind.complaint),
        ("Voglio fare un reclamo", Kind.complaint),
        ("Ik wil een klacht indienen", Kind.complaint),
        # generic
        ("Hello, I have a question about vitamin D", Kind.generic),
        ("Do you sell sun cream?", Kind.generic),
        ("", Kind.generic),
    ],
)
def test_kind_is_detected_in_every_language(text: str, expected_kind: Kind) -> None:
    request = extract_service_request(text)

    assert request.kind is expected_kind
    assert bool(request.evidence) == (expected_kind is not Kind.generic)


@pytest.mark.parametrize(
    ("text", "expected_kind", "evidence"),
    [
        # Account/data rights beat everything, including an order cancellation.
        ("Cancel my account and forget my password", Kind.account_data_request, "cancel my account"),
        # A determiner-only gap: this is about an order, not the account.
        ("Cancel the order on account 5", Kind.cancel_order, "cancel"),
        # An explicit request for a person beats the self-service action.
        ("I want to talk to a human about my refund", Kind.human_agent, "talk to a human"),
        # Cancel before refund when both are asked for.
        ("Please cancel my order and refund the money", Kind.cancel_order, "cancel"),
        ("Refund me and cancel the rest", Kind.cancel_order, "cancel"),
        # Refund before billing: the customer wants the money back.
        ("I was charged twice, please refund one payment", Kind.refund, "refund"),
        # A concrete action beats the complaint that accompanies it.
        ("This is unacceptable, where is my parcel?", Kind.tracking, "where is my parcel"),
        # Past-tense "cancelled" describes what happened; it is not a cancellation request.
        ("My order was cancelled but I was charged twice", Kind.billing, "charged twice"),
        # Placeholders never trigger a rule.
        ("[ADDRESS] [PASSWORD]", Kind.generic, ""),
    ],
)
def test_precedence_between_kinds(text: str, expected_kind: Kind, evidence: str) -> None:
    request = extract_service_request(text)

    assert request.kind is expected_kind
    assert request.evidence == evidence


@pytest.mark.parametrize(
    ("text", "orders", "prescriptions", "tickets"),
    [
        ("Where is order 12345678?", ("12345678",), (), ()),
        ("Cancel order #A1234567 please", ("A1234567",), (), ()),
        ("Status of ORD-2024-11873", ("ORD-2024-11873",), (), ()),
        ("order ORD-2024-11873 has not arrived", ("ORD-2024-11873",), (), ()),
        ("Wo ist meine Bestellung 123456?", ("123456",), (), ()),
        ("Bestellung Nr. 7654321 stornieren", ("7654321",), (), ()),
        ("Annuler la commande n° 12345", ("12345",), (), ()),
        ("Mi pedido número 55512 no ha llegado", ("55512",), (), ()),
        ("Refill Rx 1234567 please", (), ("1234567",), ()),
        ("About prescription #RX-5521", (), ("RX-5521",), ()),
        ("rx-99881 and Rezept 445566", (), ("RX-99881", "445566"), ()),
        ("Following up on ticket 4412", (), (), ("4412",)),
        ("See case CS-1234", (), (), ("CS-1234",)),
        (
            "Ticket 9001: order 11112222 and order 33334444, prescription RX-7788",
            ("11112222", "33334444"),
            ("RX-7788",),
            ("9001",),
        ),
        ("order 12345678 and again order 12345678", ("12345678",), (), ()),
        ("I placed an order for 2 boxes in case 3 arrive", (), (), ()),
        ("order [ORDER_ID] has not arrived", (), (), ()),
        ("My phone is 07700 900123", (), (), ()),
    ],
)
def test_references_are_extracted(
    text: str,
    orders: tuple[str, ...],
    prescriptions: tuple[str, ...],
    tickets: tuple[str, ...],
) -> None:
    request = extract_service_request(text)

    assert request.order_numbers == orders
    assert request.prescription_numbers == prescriptions
    assert request.ticket_numbers == tickets


def test_full_request_is_a_frozen_value() -> None:
    request = extract_service_request("Please cancel order 87654321, ticket CS-1234")

    assert request == ServiceRequest(
        kind=Kind.cancel_order,
        order_numbers=("87654321",),
        prescription_numbers=(),
        ticket_numbers=("CS-1234",),
        evidence="cancel",
    )
    with pytest.raises(AttributeError):
        request.kind = Kind.refund  # type: ignore[misc]


def test_kind_serialises_as_its_value() -> None:
    assert str(Kind.password_reset) == "password_reset"
    assert Kind("human_agent") is Kind.human_agent
