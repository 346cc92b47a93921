"""Owner pages of imports: "Import sales" (a file field, the project's imports, live progress) and the
job's JSON its script polls."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from apikeys.selectors import projects_owned_by
from sales.uploads.api.imports import ImportJobSerializer
from sales.uploads.forms import ImportForm
from sales.uploads.jobs import ImportRefused, import_job_create
from sales.uploads.selectors import import_jobs_of
from salesledger.errors import form_add_service_error

JOBS_SHOWN = 50


@login_required
def import_list(request, slug):
    project = get_object_or_404(projects_owned_by(request.user), slug=slug)
    form, status = ImportForm(), 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                import_job_create(
                    project=project, file=data["file"], file_format=data["format"] or None, skip=data["skip"] or 0,
                    user=request.user,
                )  # fmt: skip
                return redirect("import-list", slug=project.slug)
            except ImportRefused as error:
                form_add_service_error(form, error)
        status = 400
    jobs = import_jobs_of(project)[:JOBS_SHOWN]
    return render(request, "uploads/import_list.html", {"project": project, "form": form, "jobs": jobs}, status=status)


@login_required
def import_detail(request, slug, job_id):
    project = get_object_or_404(projects_owned_by(request.user), slug=slug)
    job = get_object_or_404(import_jobs_of(project), pk=job_id)
    return JsonResponse(ImportJobSerializer(job).data)
