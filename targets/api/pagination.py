"""`?limit=` / `?offset=` with bounds: a wrong or huge value is a field-level 400, never a database error."""
from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination

from core.errors import SpecError

MAX_LIMIT = 1000
MAX_OFFSET = 2**31 - 1


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def get_limit(self, request) -> int:
        return self._bounded(request, self.limit_query_param, self.default_limit, minimum=1, maximum=MAX_LIMIT)

    def get_offset(self, request) -> int:
        return self._bounded(request, self.offset_query_param, 0, minimum=0, maximum=MAX_OFFSET)

    @staticmethod
    def _bounded(request, param: str, default: int, *, minimum: int, maximum: int) -> int:
        raw = request.query_params.get(param)
        if raw is None or raw == "":
            return default
        if not raw.isdigit() or len(raw) > 18:
            raise SpecError({param: [f"must be a whole number from {minimum} to {maximum}"]})
        value = int(raw)
        if not minimum <= value <= maximum:
            raise SpecError({param: [f"must be a whole number from {minimum} to {maximum}"]})
        return value

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: (1, MAX_LIMIT), self.offset_query_param: (0, MAX_OFFSET)}
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"].update(minimum=low, maximum=high)
        return parameters
