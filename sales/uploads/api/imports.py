"""Native API of import jobs: `POST /api/v1/imports/` stores a file of sale rows and imports it in the
background; `GET /api/v1/imports/{id}` follows it."""

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from apikeys.api.base import ProjectScopedViewSet
from sales.uploads.jobs import import_job_create
from sales.uploads.models import ImportJob
from sales.uploads.selectors import import_job_list


class ImportProblem(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Row of the file, from 0.")
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    errors = ImportProblem(many=True, read_only=True, help_text="The first 1,000 problems; `error_count` counts all.")

    class Meta:
        model = ImportJob
        fields = [
            "id", "status", "file_name", "file_format", "file_size", "rows_total", "rows_done",
            "transactions_created", "transactions_updated", "errors", "error_count", "resume_from", "message",
            "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


ImportRequest = inline_serializer(
    "ImportFile",
    fields={
        "file": serializers.FileField(help_text='custobar JSON ({"sales": [...]}), JSON lines or CSV; up to 1 GB.'),
        "format": serializers.ChoiceField(
            choices=ImportJob.Format.choices, required=False, help_text="Default: from the file name's extension."
        ),
        "skip": serializers.IntegerField(
            min_value=0, required=False, help_text="Resume a stopped import: skip its first rows (its resume_from)."
        ),
    },
)


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False)
    format = serializers.ChoiceField(choices=ImportJob.Format.choices, required=False)
    skip = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, default=0)


@extend_schema_view(
    list=extend_schema(summary="List import jobs", tags=["imports"]),
    retrieve=extend_schema(summary="Read an import job", tags=["imports"]),
)
class ImportJobViewSet(ProjectScopedViewSet):
    """The project's import jobs, newest first. A job runs in the background, one per project at a time."""

    http_method_names = ["get", "post", "head", "options"]
    queryset = import_job_list()
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser]
    # The body is a file of up to 1 GB, streamed to disk: never read whole to fingerprint it. A job
    # sent twice imports the same rows twice, which the upsert makes harmless.
    idempotent = False
    heavy = True  # receiving a large file holds a worker like an upload does

    @extend_schema(
        summary="Import a file of sale rows",
        tags=["imports"],
        description=(
            "Stores the file (multipart field `file`, up to 1 GB) and answers 202 with the job at once; the job "
            "imports the rows in batches of 5,000, each all or nothing, as `import_sales_rows` does. Follow it "
            "with GET /api/v1/imports/{id}: `status` goes queued, running, then succeeded or failed; a failed "
            "job lists its problems (row, field, message; the first 1,000 and their count) and `resume_from`, "
            "the `skip` to send with the fixed file. `Idempotency-Key` is not used here."
        ),
        request={"multipart/form-data": ImportRequest},
        responses={202: ImportJobSerializer},
    )
    def create(self, request, *args, **kwargs):
        form = ImportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        job = import_job_create(
            project=self.project, file=data["file"], file_format=data.get("format"), skip=data["skip"],
            api_key=request.auth,
        )  # fmt: skip
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
