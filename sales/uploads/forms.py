"""The owner page's import form."""

from django import forms

from sales.uploads.models import ImportJob


class ImportForm(forms.Form):
    file = forms.FileField(help_text='custobar JSON ({"sales": [...]}), JSON lines or CSV; up to 1 GB.')
    format = forms.ChoiceField(
        choices=[("", "from the file name"), *ImportJob.Format.choices], required=False, label="Format"
    )
    skip = forms.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        required=False,
        initial=0,
        help_text="To resume a failed import: its resume_from.",
    )
