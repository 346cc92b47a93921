"""The endpoint form of the owner pages and the admin: the services' own rules, as field errors."""

from django import forms
from django.core.exceptions import ValidationError

from events.webhooks.services import endpoint_url_check, event_types_check


class EndpointForm(forms.Form):
    url = forms.URLField(max_length=2000, assume_scheme="https", help_text="https://... (the receiver)")
    event_types = forms.CharField(
        initial="*", max_length=2000, help_text='Separated by commas: "*" (everything), "sale.*" or "sale.created".'
    )
    description = forms.CharField(max_length=200, required=False)

    def _checked(self, check, value, field):
        try:
            return check(value)
        except ValidationError as error:
            raise ValidationError(error.message_dict[field]) from None

    def clean_url(self):
        return self._checked(endpoint_url_check, self.cleaned_data["url"], "url")

    def clean_event_types(self):
        types = [part.strip() for part in self.cleaned_data["event_types"].split(",") if part.strip()]
        return self._checked(event_types_check, types, "event_types")
