/* minimal.c - cross-entropy of a (2, 3) batch on the default OpenCL device. */
#include <clce/clce.h>
#include <stdio.h>

int main(void) {
    clce_device *dev;
    if (clce_device_create(NULL, &dev) != CLCE_OK) {
        fprintf(stderr, "no device: %s\n", clce_last_error_detail());
        return 1;
    }
    float logits[6] = {1, 2, 3, 0.5f, -1, 2.5f};
    int64_t target[2] = {2, 0};
    int64_t shape[2] = {2, 3};
    cl_context ctx = clce_device_context(dev);
    cl_mem x = clCreateBuffer(ctx, CL_MEM_COPY_HOST_PTR, sizeof logits, logits, NULL);
    cl_mem t = clCreateBuffer(ctx, CL_MEM_COPY_HOST_PTR, sizeof target, target, NULL);
    cl_mem loss = clCreateBuffer(ctx, CL_MEM_READ_WRITE, sizeof(float), NULL, NULL);

    clce_tensor_desc xd = clce_tensor_contiguous(CLCE_F32, 2, shape); /* (N, C) */
    clce_tensor_desc td = clce_tensor_contiguous(CLCE_I64, 1, shape); /* (N) */
    clce_tensor_desc ld = clce_tensor_contiguous(CLCE_F32, 0, NULL);  /* scalar */
    clce_loss_desc opts;
    clce_loss_desc_init(&opts); /* mean, ignore_index -100, no smoothing */
    opts.label_smoothing = 0.1;

    clce_status st =
        clce_cross_entropy_forward_sync(dev, &opts, &xd, x, &td, t, NULL, NULL, &ld, loss, NULL);
    float value = 0;
    if (st == CLCE_OK)
        clEnqueueReadBuffer(clce_device_queue(dev), loss, CL_TRUE, 0, sizeof value, &value, 0, NULL,
                            NULL);
    if (st == CLCE_OK)
        printf("loss = %.7f (PyTorch: 1.3220588)\n", value);
    else
        fprintf(stderr, "%s: %s\n", clce_status_name(st), clce_last_error_detail());
    clReleaseMemObject(x);
    clReleaseMemObject(t);
    clReleaseMemObject(loss);
    clce_device_destroy(dev);
    return st == CLCE_OK ? 0 : 1;
}
