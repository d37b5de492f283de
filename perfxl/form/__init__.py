"""The form as a workbook: the template writer, the field dictionary, the hidden metadata, prefill inputs."""
