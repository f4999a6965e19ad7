package dev.gpucore.spark;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LocalModeTest {
  @Test
  void localMastersAreRecognised() {
    for (String m : new String[] {"local", "local[2]", "local[*]", "local[4,2]", " local[1] "}) {
      assertTrue(LocalMode.isLocal(m), m);
    }
    for (String m : new String[] {"local-cluster[2,1,1024]", "spark://h:7077", "yarn", "k8s://x", "", null}) {
      assertFalse(LocalMode.isLocal(m), m);
    }
  }

  @Test
  void taskGpusInLocalModeFailWithTheReason() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> LocalMode.check("local[2]", Map.of(LocalMode.TASK_GPU_AMOUNT, "0.5")));
    assertTrue(e.getMessage().contains("local mode does not schedule task resources"), e.getMessage());
    assertTrue(e.getMessage().contains("wait forever"), e.getMessage());
  }

  @Test
  void otherCasesPass() {
    assertDoesNotThrow(() -> LocalMode.check("local[2]", Map.of()));
    assertDoesNotThrow(() -> LocalMode.check("local[2]", Map.of(LocalMode.TASK_GPU_AMOUNT, "0")));
    assertDoesNotThrow(() -> LocalMode.check("local-cluster[2,1,1024]",
        Map.of(LocalMode.TASK_GPU_AMOUNT, "1")));
    assertDoesNotThrow(() -> LocalMode.check("yarn", Map.of(LocalMode.TASK_GPU_AMOUNT, "1")));
  }
}
