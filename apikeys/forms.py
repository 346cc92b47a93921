"""Forms of the owner pages and admin actions."""

from django import forms

from apikeys.services import GRACE_CHOICES


class KeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which integration uses it, e.g. 'Shop webhook'.")
    expires_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Optional: the key stops working at this time, in the project's time zone.",
    )


class KeyRotateForm(forms.Form):
    grace = forms.ChoiceField(choices=GRACE_CHOICES, initial="24h", label="Old key keeps working for")
