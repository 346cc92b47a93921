"""Forms of the owner pages and admin actions."""

from django import forms

from apikeys.services import GRACE_CHOICES


class KeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which integration uses it, e.g. 'Shop webhook'.")
    expires_at = forms.DateTimeField(required=False, help_text="Optional, e.g. 2027-01-31 23:59.")


class KeyRotateForm(forms.Form):
    grace = forms.ChoiceField(choices=GRACE_CHOICES, initial="24h", label="Old key keeps working for")
