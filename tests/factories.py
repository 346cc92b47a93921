"""factory-boy factories for every app's models."""

import factory
from django.contrib.auth import get_user_model

from apikeys.models import Project
from apikeys.services import api_key_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("pw-for-tests-1")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")
    currency = "USD"
    time_zone = "UTC"

    @factory.post_generation
    def owners(self, create, extracted, **kwargs):
        if create:
            self.owners.add(*(extracted or [UserFactory()]))


def issue_key(project, *, name="test", user=None, **kwargs):
    """A fresh key for `project`; returns the IssuedKey (api_key + secret)."""
    return api_key_create(project=project, name=name, user=user or project.owners.first(), **kwargs)
