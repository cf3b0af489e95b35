"""Forms (智慧表单): YAML templates (forms/) whose fields are bound to the canonical model, prefilled from the
published read model, and written back as the grid collection source (网格采集) when newly collected.

`load_forms(folder)` reads and checks the templates (FormError with file, line and cause, like a mapping);
`prefill_steps` is the core view the API and `hub forms prefill` share; `submit` lands collected values through
the same path as any department (hub.forms.writeback); `served_shares` is the share of each form's fields the
hub serves on a district.
"""

from hub.forms.loader import FormFile, FormSet, load_form, load_forms
from hub.forms.model import Binding, FormField, FormTemplate
from hub.forms.prefill import prefill, prefill_steps
from hub.forms.served import served_shares

__all__ = ["Binding", "FormField", "FormFile", "FormSet", "FormTemplate", "load_form", "load_forms", "prefill",
           "prefill_steps", "served_shares"]

